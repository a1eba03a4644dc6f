"""The public survey page (no login, no tenant in the URL: the signed token names it)."""

from django.urls import path

from lifecycle.survey_views import survey_answer_view

app_name = "survey"
urlpatterns = [path("<str:token>/", survey_answer_view, name="answer")]
