from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("department/<int:department_pk>/<int:year>/", views.department_report, name="department"),
    path("department/<int:department_pk>/<int:year>/publish/", views.department_publish, name="department_publish"),
    path("city/<int:year>/<int:half>/", views.city_report, name="city"),
    path("city/<int:year>/<int:half>/publish/", views.city_publish, name="city_publish"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>.pdf", views.report_pdf, name="pdf"),
    path("<int:pk>/hand-to-board/", views.hand_to_board, name="hand_to_board"),
]
