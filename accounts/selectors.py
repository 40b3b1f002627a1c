from django.db.models import Count, QuerySet
from django.utils import timezone

from .models import ApiToken, Invitation, Team, User


def user_list() -> QuerySet[User]:
    return User.objects.select_related("team").order_by("-is_active", "email")


def team_list() -> QuerySet[Team]:
    return Team.objects.select_related("manager").annotate(member_count=Count("members"))


def invitation_list_open() -> QuerySet[Invitation]:
    return Invitation.objects.select_related("team").filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)
