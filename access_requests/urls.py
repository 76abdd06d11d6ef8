from django.urls import path

from . import views

app_name = "requests"
urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.new, name="new"),
    path("preview/", views.preview, name="preview"),
    path("queue/", views.queue, name="queue"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/written/", views.written, name="written"),
    path("<int:pk>/written.pdf", views.written_pdf, name="written_pdf"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/decline/", views.decline, name="decline"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/provision/", views.provision, name="provision"),
    path("<int:pk>/return/", views.return_to_department, name="return"),
    path("<int:pk>/documents/", views.attach, name="attach"),
    path("<int:pk>/documents/<int:document_pk>/", views.document, name="document"),
    path("status-change/<int:person_pk>/", views.status_change, name="status_change"),
    path("department-access/", views.department_access_list, name="department_access_list"),
    path("department-access/new/", views.department_access_new, name="department_access_new"),
    path("department-access/<int:pk>/", views.department_access_detail, name="department_access"),
    path("department-access/<int:pk>/decide/", views.department_access_decide, name="department_access_decide"),
    path("department-access/<int:pk>/revoke/", views.department_access_revoke, name="department_access_revoke"),
]
