"""The public survey page (no login, no tenant in the URL: the signed token names it). Its own URL root and
namespace, so it cannot live in urls.py (included under /t/<slug>/)."""

from django.urls import path

from lifecycle.views.survey import survey_answer_view

app_name = "survey"
urlpatterns = [path("<str:token>/", survey_answer_view, name="answer")]
