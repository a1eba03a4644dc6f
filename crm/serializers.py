from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.models import ApiToken, Membership, MembershipStatus, Role


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    tenant = serializers.SlugField(help_text=_("The tenant's slug."))
    name = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="The device or script that will hold the token (shown on the tokens page).",
    )
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=365,
        required=False,
        help_text="How long the token works, in days (default 90, settings.API_TOKEN_DAYS).",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField(
        read_only=True, help_text="After this moment the token answers 401."
    )


class ApiTokenSerializer(serializers.ModelSerializer):
    """One of the member's own tokens (never its key: only its hash is stored)."""

    current = serializers.SerializerMethodField(help_text="Whether this request was made with this token.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "created_at", "last_used_at", "expires_at", "current"]
        read_only_fields = fields

    def get_current(self, token: ApiToken) -> bool:
        request = self.context.get("request")
        used = getattr(getattr(request, "_request", request), "api_token", None)
        return used is not None and used.pk == token.pk


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.SerializerMethodField(help_text="Empty while the invitation is open.")
    team = serializers.CharField(source="team.name", read_only=True, allow_null=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "full_name", "role", "team", "status", "created_at"]
        read_only_fields = fields

    def get_full_name(self, membership: Membership) -> str:
        return membership.shown_name


class MemberCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    team = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=100)


class MemberCreatedSerializer(MembershipSerializer):
    invitation_url = serializers.CharField(read_only=True)

    class Meta(MembershipSerializer.Meta):
        fields = [*MembershipSerializer.Meta.fields, "invitation_url"]
        read_only_fields = fields


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    team = serializers.CharField(required=False, allow_blank=True, max_length=100)
    status = serializers.ChoiceField(choices=MembershipStatus.choices, required=False)
