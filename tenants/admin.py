from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import Domain, Tenant
from .services import tenant_set_status


class LifecycleStatusFilter(admin.SimpleListFilter):
    """Company states only: the template and pool are internal."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        internal = (Tenant.Status.TEMPLATE, Tenant.Status.POOLED)
        return [(value, label) for value, label in Tenant.Status.choices if value not in internal]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """The operators' view of companies (the full console comes with billing)."""

    list_display = ["name", "subdomain", "status", "trial_ends_at", "created_at", "schema_name"]
    list_filter = [LifecycleStatusFilter]
    search_fields = ["name", "subdomain", "schema_name", "domains__domain"]
    readonly_fields = ["schema_name", "created_at", "updated_at"]
    fields = [
        "name",
        "subdomain",
        "status",
        "trial_ends_at",
        "schema_name",
        "created_at",
        "updated_at",
    ]
    inlines = [DomainInline]
    actions = ["suspend", "reactivate", "make_read_only"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .exclude(status__in=[Tenant.Status.TEMPLATE, Tenant.Status.POOLED])
            .exclude(schema_name="public")
        )

    def has_delete_permission(self, request, obj=None):
        return False  # companies are cancelled, never deleted from here

    def _set_status(self, request, queryset, status):
        for tenant in queryset:
            tenant_set_status(tenant=tenant, status=status)
        self.message_user(
            request, _("%(count)d companies updated.") % {"count": len(queryset)}, messages.SUCCESS
        )

    @admin.action(description=_("Suspend selected companies"))
    def suspend(self, request, queryset):
        self._set_status(request, queryset, Tenant.Status.SUSPENDED)

    @admin.action(description=_("Reactivate selected companies"))
    def reactivate(self, request, queryset):
        self._set_status(request, queryset, Tenant.Status.ACTIVE)

    @admin.action(description=_("Make selected companies read-only"))
    def make_read_only(self, request, queryset):
        self._set_status(request, queryset, Tenant.Status.READ_ONLY)
