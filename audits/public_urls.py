from django.urls import path

from . import public_views

app_name = "transparency"
urlpatterns = [
    path("", public_views.index, name="index"),
    path("reports/<int:pk>/", public_views.report, name="report"),
    path("reports/<int:pk>.pdf", public_views.report_pdf, name="report_pdf"),
    path("open-data.csv", public_views.open_data_csv, name="open_data_csv"),
    path("open-data.json", public_views.open_data_json, name="open_data_json"),
    path("audit-anchors.csv", public_views.audit_anchors_csv, name="audit_anchors_csv"),
]
