"""Hook that distils a frozen dense ResNet into the SAR model being trained."""
import math
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS, MODELS
from torch import Tensor, nn

from ...models.utils.dense_to_sar import load_dense_weights
from ...utils.args import check_choice
from ..schedules import check_loss_weight

TARGETS = ('logits', 'features')


def soft_kl(student: Tensor, teacher: Tensor, temperature: float) -> Tensor:
    """T^2 KL(softmax(teacher / T) || softmax(student / T)) over dim 1,
    averaged over the rows: Hinton et al.'s distillation loss for logits
    (N, K).

    Feature maps (N, C, H, W) are compared per channel over the positions
    (rows N * C of H * W values), the channel-wise distillation of Shu et
    al. (CWD, ICCV 2021).
    """
    if student.shape != teacher.shape:
        raise ValueError(f'student output {tuple(student.shape)} and '
                         f'teacher output {tuple(teacher.shape)} differ')
    if student.dim() == 4:
        student, teacher = student.flatten(2).flatten(
            0, 1), teacher.flatten(2).flatten(0, 1)
    log_student = F.log_softmax(student.float() / temperature, dim=1)
    log_teacher = F.log_softmax(teacher.float() / temperature, dim=1)
    return F.kl_div(
        log_student, log_teacher, reduction='batchmean',
        log_target=True) * temperature**2


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


@HOOKS.register_module()
class DenseDistillHook(Hook):
    """Adds a distillation loss from a frozen dense teacher.

    In every ``mode='loss'`` forward of the model the teacher (built from
    ``teacher``, weights from ``teacher_checkpoint``, frozen, always in eval
    mode, not part of the trained model or its checkpoints) sees the same
    preprocessed inputs, and ``loss_kd = loss_weight * soft_kl(student,
    teacher, temperature)`` is added to the loss dict inside the model's
    forward (a forward hook), so DistributedDataParallel sees it, as for
    :class:`SARLossHook`.

    - ``distill='logits'`` (classification): the outputs of ``model.head``
      (mmpretrain heads return the class scores (N, K)) against those of
      the teacher classifier (``teacher(inputs, mode='tensor')``).
    - ``distill='features'`` (detection, segmentation): the backbone stage
      outputs (N, C, H, W) against those of the teacher backbone, CWD per
      stage, averaged over the stages in ``feature_indices``. A SAR-ResNet
      has the widths and strides of the ResNet it replaces, so no adapter
      is needed.

    Example:
        >>> custom_hooks = [
        ...     dict(type='DenseDistillHook',
        ...          teacher=dict(type='ImageClassifier', ...),
        ...          teacher_checkpoint='resnet50-0676ba61.pth',
        ...          temperature=4.0, loss_weight=0.5)
        ... ]

    Args:
        teacher (dict): Model config of the teacher, built in the runner's
            scope: a classifier for ``'logits'``, a backbone for
            ``'features'``.
        teacher_checkpoint (str): Dense ResNet checkpoint in torchvision,
            timm or mmpretrain layout (also an mmdet / mmseg model's),
            loaded with :func:`~mmsar.models.utils.load_dense_weights`.
        distill (str): ``'logits'`` or ``'features'``. Defaults to 'logits'.
        temperature (float): T > 0. Defaults to 4.0 (LAUDNet's).
        loss_weight (float): Factor of the loss, >= 0. Defaults to 0.5
            (LAUDNet's).
        feature_indices (Sequence[int], optional): Backbone outputs to
            distil with ``'features'``; None for all. Defaults to None.
    """

    priority = 'NORMAL'

    def __init__(self,
                 teacher: dict,
                 teacher_checkpoint: str,
                 distill: str = 'logits',
                 temperature: float = 4.0,
                 loss_weight: float = 0.5,
                 feature_indices: Optional[Sequence[int]] = None) -> None:
        check_choice('distill', distill, TARGETS)
        if not _is_number(temperature) or temperature <= 0:
            raise ValueError('temperature must be a finite number > 0, got '
                             f'{temperature!r}')
        check_loss_weight(loss_weight)
        self.teacher_cfg = teacher
        self.teacher_checkpoint = teacher_checkpoint
        self.distill = distill
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.feature_indices = feature_indices
        self.teacher: Optional[nn.Module] = None
        self._student_out = None
        self._handles: List[torch.utils.hooks.RemovableHandle] = []

    def before_train(self, runner) -> None:
        """Build and load the teacher, hook the student."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if self.teacher is None:
            teacher = MODELS.build(self.teacher_cfg)
            load_dense_weights(teacher, self.teacher_checkpoint)
            teacher.requires_grad_(False)
            self.teacher = teacher
        # (mmpretrain's ResNet.train() returns None, so no chaining)
        self.teacher.eval()
        device = next(model.parameters()).device
        self.teacher.to(device)
        watched = model.head if self.distill == 'logits' else model.backbone
        self._remove_handles()
        self._handles = [
            watched.register_forward_hook(self._keep_student_output),
            model.register_forward_hook(self._add_kd_loss, with_kwargs=True)
        ]

    def after_train(self, runner) -> None:
        """Unhook the model."""
        self._remove_handles()

    def _remove_handles(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _keep_student_output(self, module: nn.Module, args, output) -> None:
        self._student_out = output

    @torch.no_grad()
    def _teacher_output(self, inputs: Tensor):
        self.teacher.eval()
        if self.distill == 'logits':
            return self.teacher(inputs, mode='tensor')
        return self.teacher(inputs)

    def _add_kd_loss(self, module: nn.Module, args, kwargs, output):
        """Forward hook: add ``loss_kd`` in loss mode."""
        if kwargs.get('mode') != 'loss':
            return None
        inputs = kwargs['inputs'] if 'inputs' in kwargs else args[0]
        student, self._student_out = self._student_out, None
        if student is None:
            raise RuntimeError(
                'DenseDistillHook: the forward did not run model.'
                f'{"head" if self.distill == "logits" else "backbone"}')
        teacher = self._teacher_output(inputs)
        if self.distill == 'logits':
            loss = soft_kl(student, teacher, self.temperature)
        else:
            indices = (range(len(student)) if self.feature_indices is None else
                       self.feature_indices)
            loss = sum(
                soft_kl(student[i], teacher[i], self.temperature)
                for i in indices) / len(indices)
        output['loss_kd'] = self.loss_weight * loss
        return output
