"""Information sharing agreements (3.7, Table 2)."""

app_name = "agreements"
urlpatterns = []
