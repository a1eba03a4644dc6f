"""Forms of pipelines and stages (admins)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Stage, StageKind
from crm.formstyle import StyledForm, model_choice_field


class PipelineForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_default = forms.BooleanField(label=_("Default pipeline"), required=False)


class StageForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    probability = forms.DecimalField(
        label=_("Default probability"), min_value=0, max_value=1, max_digits=4, decimal_places=3
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=StageKind.choices)


class StageDeleteForm(StyledForm):
    move_to = forms.ModelChoiceField(
        label=_("Move its deals to"), queryset=Stage.objects.none(), required=False
    )

    def __init__(self, *args: Any, stage: Stage, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self.fields, "move_to").queryset = Stage.objects.filter(
            pipeline_id=stage.pipeline_id, kind=stage.kind
        ).exclude(pk=stage.pk)
