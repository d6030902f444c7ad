from .flops import (PARTS, Complexity, count_at_rate, count_complexity,
                    count_images, dense_counterpart, dense_layer_macs,
                    dense_macs_per_image, is_sar_backbone, layer_parts,
                    selected_fraction, summarize)
from .model_inputs import (AnalysisInputError, build_model, build_val_dataset,
                           check_images, find_sar_backbone, image_pipeline,
                           load_config, preprocess, val_inputs)

__all__ = [
    'PARTS', 'Complexity', 'count_at_rate', 'count_complexity', 'count_images',
    'dense_counterpart', 'dense_layer_macs', 'dense_macs_per_image',
    'is_sar_backbone', 'layer_parts', 'selected_fraction', 'summarize',
    'AnalysisInputError', 'build_model', 'build_val_dataset', 'check_images',
    'find_sar_backbone', 'image_pipeline', 'load_config', 'preprocess',
    'val_inputs'
]
