from .urls_compliance import urlpatterns as compliance_patterns
from .urls_meetings import urlpatterns as meeting_patterns

app_name = "orglife"
urlpatterns = meeting_patterns + compliance_patterns
