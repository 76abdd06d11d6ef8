from django.urls import path

from . import views

# The person, grant and department pages show sections of the apps above this one: they are in
# pages/, which mounts them in this namespace.
app_name = "accounts"
urlpatterns = [
    path("", views.people, name="people"),
    path("requesters/", views.requesters, name="requesters"),
    path("requesters/add/", views.requester_add, name="requester_add"),
    path("requesters/<int:pk>/end/", views.requester_end, name="requester_end"),
]
