"""Writes of pipelines and their stages: create (with the default stages), rename, delete, reorder and move
stages. Only admins change pipelines."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Opportunity, Pipeline, Stage, StageChange, StageKind
from crm.history import stamps_actor
from crm.models import Role, Tenant, User
from crm.records import actor_membership

DEFAULT_PIPELINE_NAME = "Sales"


# (name, default probability, kind) of the pipeline every tenant starts with (DESIGN.md).
DEFAULT_STAGES: list[tuple[str, str, str]] = [
    ("Qualification", "0.10", StageKind.OPEN),
    ("Needs analysis", "0.25", StageKind.OPEN),
    ("Proposal", "0.50", StageKind.OPEN),
    ("Negotiation", "0.75", StageKind.OPEN),
    ("Closed won", "1.0", StageKind.WON),
    ("Closed lost", "0", StageKind.LOST),
]


def _require_admin(*, tenant: Tenant, actor: User | None) -> None:
    membership = actor_membership(tenant=tenant, actor=actor)
    if membership is not None and membership.role != Role.ADMIN:
        raise PermissionDenied(_("Only admins can change pipelines."))


def _as_decimal(value: Any, field: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError({field: _("Enter a number.")}) from exc
    if not result.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    return result


def _validate_probability(value: Decimal) -> Decimal:
    if value < 0 or value > 1:
        raise ValidationError({"probability": _("Probability is a fraction between 0 and 1.")})
    return value.quantize(Decimal("0.001"), ROUND_HALF_UP)


@transaction.atomic
def pipeline_create_default(*, tenant: Tenant) -> Pipeline:
    """Create the default `Sales` pipeline with its six stages (idempotent: returns the existing one)."""
    existing = Pipeline.objects.filter(tenant=tenant, name=DEFAULT_PIPELINE_NAME).first()
    if existing is not None:
        if not Pipeline.objects.filter(tenant=tenant, is_default=True).exists():
            Pipeline.objects.filter(pk=existing.pk).update(is_default=True)
            existing.is_default = True
        return existing
    has_default = Pipeline.objects.filter(tenant=tenant, is_default=True).exists()
    pipeline = Pipeline.objects.create(tenant=tenant, name=DEFAULT_PIPELINE_NAME, is_default=not has_default)
    Stage.objects.bulk_create(
        [
            Stage(
                tenant=tenant, pipeline=pipeline, name=name, order=index, probability=Decimal(prob), kind=kind
            )
            for index, (name, prob, kind) in enumerate(DEFAULT_STAGES)
        ]
    )
    return pipeline


def pipeline_default(*, tenant: Tenant) -> Pipeline:
    """The tenant's default pipeline (created if the tenant somehow has none)."""
    pipeline = Pipeline.objects.filter(tenant=tenant, is_default=True).first()
    if pipeline is None:
        pipeline = Pipeline.objects.filter(tenant=tenant).order_by("order", "id").first()
    if pipeline is None:
        pipeline = pipeline_create_default(tenant=tenant)
    return pipeline


def _validate_pipeline_kinds(pipeline: Pipeline) -> None:
    kinds = set(pipeline.stages.values_list("kind", flat=True))
    missing = [str(kind.label) for kind in StageKind if kind not in kinds]
    if missing:
        raise ValidationError(
            {"kind": _("A pipeline needs at least one %(kinds)s stage.") % {"kinds": ", ".join(missing)}}
        )


@transaction.atomic
def pipeline_create(
    *,
    tenant: Tenant,
    actor: User | None,
    name: str,
    is_default: bool = False,
    stages: list[dict[str, Any]] | None = None,
) -> Pipeline:
    """Create a pipeline; without `stages` it gets a copy of the default stage set."""
    _require_admin(tenant=tenant, actor=actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    if Pipeline.objects.filter(tenant=tenant, name__iexact=name).exists():
        raise ValidationError({"name": _("A pipeline with this name exists.")})
    order = (
        Pipeline.objects.filter(tenant=tenant).order_by("-order").values_list("order", flat=True).first() or 0
    ) + 1
    if is_default:
        Pipeline.objects.filter(tenant=tenant, is_default=True).update(is_default=False)
    pipeline = Pipeline.objects.create(tenant=tenant, name=name, is_default=is_default, order=order)
    specs = stages or [{"name": n, "probability": p, "kind": k} for n, p, k in DEFAULT_STAGES]
    seen: set[str] = set()
    rows = []
    for index, spec in enumerate(specs):
        stage_name = str(spec.get("name", "")).strip()
        if not stage_name or stage_name.lower() in seen:
            raise ValidationError({"stages": _("Stage names must be present and unique.")})
        seen.add(stage_name.lower())
        kind = spec.get("kind", StageKind.OPEN)
        if kind not in StageKind.values:
            raise ValidationError({"kind": _("Unknown stage kind.")})
        rows.append(
            Stage(
                tenant=tenant,
                pipeline=pipeline,
                name=stage_name,
                order=index,
                probability=_validate_probability(_as_decimal(spec.get("probability", 0), "probability")),
                kind=kind,
            )
        )
    Stage.objects.bulk_create(rows)
    _validate_pipeline_kinds(pipeline)
    return pipeline


@transaction.atomic
def pipeline_update(
    *,
    tenant: Tenant,
    actor: User | None,
    pipeline: Pipeline,
    name: str | None = None,
    is_default: bool | None = None,
) -> Pipeline:
    _require_admin(tenant=tenant, actor=actor)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": _("Enter a name.")})
        if Pipeline.objects.filter(tenant=tenant, name__iexact=name).exclude(pk=pipeline.pk).exists():
            raise ValidationError({"name": _("A pipeline with this name exists.")})
        pipeline.name = name
    if is_default is True and not pipeline.is_default:
        Pipeline.objects.filter(tenant=tenant, is_default=True).update(is_default=False)
        pipeline.is_default = True
    elif is_default is False and pipeline.is_default:
        raise ValidationError({"is_default": _("Make another pipeline the default instead.")})
    pipeline.save()
    return pipeline


@transaction.atomic
def pipeline_delete(*, tenant: Tenant, actor: User | None, pipeline: Pipeline) -> None:
    """Delete a pipeline that is not the default and holds no deals (deleted deals included)."""
    _require_admin(tenant=tenant, actor=actor)
    if pipeline.is_default:
        raise ValidationError({"is_default": _("The default pipeline cannot be deleted.")})
    if Opportunity.objects.filter(tenant=tenant, pipeline=pipeline).exists():
        raise ValidationError(
            {"pipeline": _("This pipeline has deals; move them to another pipeline first.")}
        )
    pipeline.delete()


@transaction.atomic
def stage_create(
    *,
    tenant: Tenant,
    actor: User | None,
    pipeline: Pipeline,
    name: str,
    probability: Decimal | str | float,
    kind: str = StageKind.OPEN,
    order: int | None = None,
) -> Stage:
    """Add a stage; without `order` an open stage goes after the last open stage, a closed one at the end."""
    _require_admin(tenant=tenant, actor=actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    if kind not in StageKind.values:
        raise ValidationError({"kind": _("Unknown stage kind.")})
    if pipeline.stages.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("This pipeline already has a stage with this name.")})
    prob = _validate_probability(_as_decimal(probability, "probability"))
    ordered = list(pipeline.stages.order_by("order", "id"))
    if order is None:
        if kind == StageKind.OPEN:
            open_positions = [i for i, s in enumerate(ordered) if s.kind == StageKind.OPEN]
            order = (open_positions[-1] + 1) if open_positions else 0
        else:
            order = len(ordered)
    order = max(0, min(order, len(ordered)))
    stage = Stage(tenant=tenant, pipeline=pipeline, name=name, probability=prob, kind=kind, order=order)
    ordered.insert(order, stage)
    stage.save()
    _renumber(ordered)
    return stage


def _renumber(stages: list[Stage]) -> None:
    changed = []
    for index, stage in enumerate(stages):
        if stage.order != index:
            stage.order = index
            changed.append(stage)
    if changed:
        Stage.objects.bulk_update(changed, ["order"])


@transaction.atomic
def stage_update(
    *,
    tenant: Tenant,
    actor: User | None,
    stage: Stage,
    name: str | None = None,
    probability: Decimal | str | float | None = None,
    kind: str | None = None,
) -> Stage:
    """Rename a stage, change its default probability or kind. Changing the kind of a stage with deals is
    refused (their closed/won state would change under them)."""
    _require_admin(tenant=tenant, actor=actor)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": _("Enter a name.")})
        if (
            Stage.objects.filter(pipeline_id=stage.pipeline_id, name__iexact=name)
            .exclude(pk=stage.pk)
            .exists()
        ):
            raise ValidationError({"name": _("This pipeline already has a stage with this name.")})
        stage.name = name
    if probability is not None:
        stage.probability = _validate_probability(_as_decimal(probability, "probability"))
    if kind is not None and kind != stage.kind:
        if kind not in StageKind.values:
            raise ValidationError({"kind": _("Unknown stage kind.")})
        if Opportunity.objects.filter(tenant=tenant, stage=stage).exists():
            raise ValidationError({"kind": _("This stage has deals; its kind cannot change.")})
        stage.kind = kind
    stage.save()
    _validate_pipeline_kinds(stage.pipeline)
    return stage


@transaction.atomic
def stages_reorder(
    *, tenant: Tenant, actor: User | None, pipeline: Pipeline, stage_ids: list[int]
) -> list[Stage]:
    """Put the pipeline's stages in the order of `stage_ids` (every stage exactly once)."""
    _require_admin(tenant=tenant, actor=actor)
    stages = {s.pk: s for s in pipeline.stages.all()}
    ids = [int(i) for i in stage_ids]
    if sorted(ids) != sorted(stages):
        raise ValidationError({"stages": _("Send every stage of the pipeline exactly once.")})
    ordered = [stages[i] for i in ids]
    _renumber(ordered)
    return ordered


@transaction.atomic
def stage_move(*, tenant: Tenant, actor: User | None, stage: Stage, direction: str) -> Stage:
    """Move a stage one place `up` or `down`."""
    ordered = list(Stage.objects.filter(pipeline_id=stage.pipeline_id).order_by("order", "id"))
    index = next(i for i, s in enumerate(ordered) if s.pk == stage.pk)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    stages_reorder(tenant=tenant, actor=actor, pipeline=stage.pipeline, stage_ids=[s.pk for s in ordered])
    stage.refresh_from_db()
    return stage


@transaction.atomic
@stamps_actor
def stage_delete(*, tenant: Tenant, actor: User | None, stage: Stage, move_to: Stage | None = None) -> int:
    """Delete a stage; its deals (deleted ones too) move to `move_to`, a stage of the same pipeline and kind.

    Side effects: one StageChange per moved deal. Returns the number of deals moved.
    """
    _require_admin(tenant=tenant, actor=actor)
    deals = Opportunity.objects.filter(tenant=tenant, stage=stage)
    moved = 0
    if deals.exists():
        if move_to is None:
            raise ValidationError({"move_to": _("This stage has deals; choose where to move them.")})
        if move_to.pk == stage.pk or move_to.pipeline_id != stage.pipeline_id:
            raise ValidationError({"move_to": _("Choose another stage of the same pipeline.")})
        if move_to.kind != stage.kind:
            raise ValidationError({"move_to": _("Choose a stage of the same kind (open, won or lost).")})
        now = timezone.now()
        rows = list(deals.values("pk", "amount", "probability"))
        new_probability = F("probability") if stage.kind != StageKind.OPEN else Value(move_to.probability)
        moved = deals.update(
            stage=move_to, probability=new_probability, version=F("version") + 1, updated_at=now
        )
        StageChange.objects.bulk_create(
            [
                StageChange(
                    tenant=tenant,
                    opportunity_id=row["pk"],
                    from_stage=stage,
                    to_stage=move_to,
                    changed_at=now,
                    actor=actor,
                    amount=row["amount"],
                    probability=move_to.probability if stage.kind == StageKind.OPEN else row["probability"],
                )
                for row in rows
            ]
        )
    pipeline = stage.pipeline
    stage.delete()
    _renumber(list(pipeline.stages.order_by("order", "id")))
    _validate_pipeline_kinds(pipeline)
    return moved
