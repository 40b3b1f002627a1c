"""Routes of the deals area (see crm_core/routes/__init__.py): deals, pipelines, stages."""

from django.urls import path

from ..api import deals as deal_api
from ..api import pipelines as pipeline_api
from ..views import deals as deal_pages
from ..views import pipelines as pipeline_pages

pages = [
    path("deals/", deal_pages.deal_board, name="deals"),
    path("deals/new/", deal_pages.deal_create, name="deal_create"),
    path("deals/<int:pk>/", deal_pages.deal_detail, name="deal"),
    path("deals/<int:pk>/edit/", deal_pages.deal_edit, name="deal_edit"),
    path("deals/<int:pk>/move/", deal_pages.deal_move, name="deal_move"),
    path("pipelines/", pipeline_pages.pipeline_settings, name="pipelines"),
    path("pipelines/<int:pk>/", pipeline_pages.pipeline_edit, name="pipeline_edit"),
    path("pipelines/<int:pk>/stages/", pipeline_pages.stage_create, name="stage_create"),
    path("stages/<int:pk>/", pipeline_pages.stage_edit, name="stage_edit"),
]

api = [
    path("pipelines/", pipeline_api.PipelineListApi.as_view(), name="api-pipelines"),
    path("pipelines/<int:pk>/", pipeline_api.PipelineDetailApi.as_view(), name="api-pipeline"),
    path("stages/", pipeline_api.StageListApi.as_view(), name="api-stages"),
    path("stages/<int:pk>/", pipeline_api.StageDetailApi.as_view(), name="api-stage"),
    path("deals/", deal_api.DealListApi.as_view(), name="api-deals"),
    path("deals/bulk/", deal_api.DealBulkApi.as_view(), name="api-deals-bulk"),
    path("deals/<int:pk>/", deal_api.DealDetailApi.as_view(), name="api-deal"),
    path("deals/<int:pk>/move/", deal_api.DealMoveApi.as_view(), name="api-deal-move"),
    path("deals/<int:pk>/history/", deal_api.DealHistoryApi.as_view(), name="api-deal-history"),
]
