"""REST endpoints of teams: the teams list (staff, API keys) and an agent's own status."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import StaffOrApiKey, is_staff_user
from sessions_app.exceptions import InvalidTransition
from sessions_app.models import AgentProfile, AgentStatus, Team
from sessions_app.serializers import user_display_name
from sessions_app.services import agent_profile_for, agent_status_set
from supportdesk.api import ApiError

from . import selectors

DEFAULT_CAPACITY = AgentProfile._meta.get_field("capacity").default


class TeamMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=AgentStatus.choices, help_text="online or away.")
    capacity = serializers.IntegerField(help_text="Most conversations routed to them at once.")
    connected = serializers.BooleanField(help_text="A console socket is open.")
    open_conversations = serializers.IntegerField(help_text="Open or escalated, assigned.")


class TeamSerializer(serializers.ModelSerializer):
    topic_tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    websites = serializers.SerializerMethodField()
    members = serializers.SerializerMethodField()
    waiting = serializers.IntegerField(read_only=True, help_text="Queued, nobody assigned yet.")

    class Meta:
        model = Team
        fields = ["id", "name", "topic_tags", "websites", "members", "waiting"]
        read_only_fields = fields

    def get_websites(self, team) -> list[str]:
        """The site keys routed to this team."""
        return [website.site_key for website in team.websites.all()]

    @extend_schema_field(TeamMemberSerializer(many=True))
    def get_members(self, team) -> list[dict]:
        connected, load = self.context["connected"], self.context["load"]
        rows = []
        for user in team.members.all():
            profile = getattr(user, "agent_profile", None)
            rows.append(
                {
                    "id": user.pk,
                    "name": user_display_name(user),
                    "status": profile.status if profile else AgentStatus.ONLINE,
                    "capacity": profile.capacity if profile else DEFAULT_CAPACITY,
                    "connected": user.pk in connected,
                    "open_conversations": load.get(user.pk, 0),
                }
            )
        return rows


# Teams are an admin's short list; this bounds the answer without paging.
TEAMS_LIMIT = 100


class TeamListApi(APIView):
    """GET the teams with their members' status, capacity and load, and their queue."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="List teams",
        description=(
            f"Every team (at most {TEAMS_LIMIT}, by name) with its topic tags, the site keys "
            "routed to it, how many conversations wait in its queue, and each member's status "
            "(`online`/`away`), capacity, whether a console is connected, and open load."
        ),
        responses=TeamSerializer(many=True),
    )
    def get(self, request):
        teams = list(selectors.teams_list()[:TEAMS_LIMIT])
        user_ids = {user.pk for team in teams for user in team.members.all()}
        context = {
            "connected": selectors.agents_online_ids(user_ids=user_ids),
            "load": selectors.open_load(user_ids=user_ids),
        }
        return Response(TeamSerializer(teams, many=True, context=context).data)


class IsStaffUser(permissions.BasePermission):
    """A signed-in staff person (an API key is nobody's status)."""

    message = "Only a signed-in agent has a status."

    def has_permission(self, request, view) -> bool:
        return is_staff_user(getattr(request, "user", None))


class AgentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AgentStatus.choices)
    capacity = serializers.IntegerField(read_only=True)


class AgentStatusApi(APIView):
    """GET or PUT the signed-in agent's own status (online/away)."""

    permission_classes = [IsStaffUser]

    @extend_schema_serializer(component_name="AgentStatusInput")
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=AgentStatus.choices)

    @extend_schema(summary="Get my agent status", responses=AgentStatusSerializer)
    def get(self, request):
        profile = agent_profile_for(user=request.user)
        return Response(AgentStatusSerializer(profile).data)

    @extend_schema(
        summary="Set my agent status",
        description=(
            "`away`: no conversation is routed to you (those you hold stay yours). `online`: "
            "routing resumes, and your teams' waiting conversations are assigned at once."
        ),
        request=InputSerializer,
        responses=AgentStatusSerializer,
    )
    def put(self, request):
        payload = self.InputSerializer(data=request.data if isinstance(request.data, dict) else {})
        payload.is_valid(raise_exception=True)
        try:
            profile = agent_status_set(user=request.user, status=payload.validated_data["status"])
        except InvalidTransition as error:
            raise ApiError(error.code, error.detail) from None
        return Response(AgentStatusSerializer(profile).data)
