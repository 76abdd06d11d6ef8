from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.people, name="people"),
    path("<int:pk>/", views.person, name="person"),
    path("grants/<int:pk>/", views.grant, name="grant"),
    path("departments/<int:pk>/", views.department, name="department"),
    path("requesters/", views.requesters, name="requesters"),
    path("requesters/add/", views.requester_add, name="requester_add"),
    path("requesters/<int:pk>/end/", views.requester_end, name="requester_end"),
]
