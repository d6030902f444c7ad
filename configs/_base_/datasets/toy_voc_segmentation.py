# Toy VOC-style segmentation set (mmseg): 200 train + 50 val 128x128 images,
# label 0 = background, 1..3 = ellipse, rectangle, triangle (no ignored
# pixels); see mmsar/datasets/toy_data.py.
dataset_type = 'BaseSegDataset'
data_root = 'data/toy/voc/'
metainfo = dict(
    classes=('background', 'ellipse', 'rectangle', 'triangle'),
    palette=[(0, 0, 0), (220, 20, 60), (0, 128, 255), (255, 180, 0)])
crop_size = (128, 128)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.jpg',
        seg_map_suffix='.png',
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=train_pipeline))
# The training loader on the val split, in order, without augmentation.
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'],
                 ann_file='ImageSets/Segmentation/val.txt',
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
