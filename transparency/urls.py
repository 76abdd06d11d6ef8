from django.urls import path

from . import views

app_name = "transparency"
urlpatterns = [
    path("", views.index, name="index"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("reports/<int:pk>.pdf", views.report_pdf, name="report_pdf"),
    path("open-data.csv", views.open_data_csv, name="open_data_csv"),
    path("open-data.json", views.open_data_json, name="open_data_json"),
    path("audit-anchors.csv", views.audit_anchors_csv, name="audit_anchors_csv"),
]
