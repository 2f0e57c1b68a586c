"""CSAT survey responses (Typeform)."""

from typing import ClassVar

from pydantic import Field

from extractors import survey
from extractors.survey import DEFAULT_ANSWER_REFS, SurveyClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceResource

RESOURCE_KEY = "survey"


class SurveyResource(SourceResource):
    """Typeform Responses API: SURVEY_BASE_URL, SURVEY_TOKEN, SURVEY_FORM_ID."""

    BASE_URL_VAR: ClassVar[str] = "SURVEY_BASE_URL"
    answer_refs: list[str] = Field(default=list(DEFAULT_ANSWER_REFS),
                                   description="Question refs the warehouse reads. A question removed from "
                                               "the form fails the run: change it here.")
    page_size: int = Field(default=1000, description="Responses per page (1-1000)")

    def client(self) -> SurveyClient:
        s = self.settings("SURVEY_BASE_URL", "SURVEY_TOKEN", "SURVEY_FORM_ID")
        return SurveyClient(s["SURVEY_BASE_URL"], s["SURVEY_TOKEN"], form_id=s["SURVEY_FORM_ID"],
                            answer_refs=self.answer_refs, page_size=self.page_size)


def resource(fakes) -> SurveyResource:
    return SurveyResource(fakes=fakes)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in survey.STREAMS]
CHECKS: list = []
