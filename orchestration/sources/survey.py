"""CSAT survey responses (Typeform)."""

from typing import ClassVar

from pydantic import Field, SecretStr

from extractors import survey
from extractors.survey import DEFAULT_ANSWER_REFS, SurveyClient
from orchestration.assets.streams import stream_asset
from orchestration.resources import SourceEnvironment, SourceResource, SourceSettings

RESOURCE_KEY = "survey"


class SurveySettings(SourceSettings):
    SOURCE: ClassVar[str] = RESOURCE_KEY

    base_url: str = Field(alias="SURVEY_BASE_URL", description="e.g. https://api.typeform.com")
    token: SecretStr = Field(alias="SURVEY_TOKEN")
    form_id: str = Field(alias="SURVEY_FORM_ID")


class SurveyResource(SourceResource):
    """Typeform Responses API (settings: SurveySettings)."""

    SETTINGS: ClassVar[type[SourceSettings]] = SurveySettings
    answer_refs: list[str] = Field(
        default=list(DEFAULT_ANSWER_REFS),
        description="Question refs the warehouse reads. A question removed from "
        "the form fails the run: change it here.",
    )
    page_size: int = Field(default=1000, description="Responses per page (1-1000)")

    def make_client(self, s: SurveySettings) -> SurveyClient:
        return SurveyClient(
            s.base_url,
            s.token.get_secret_value(),
            form_id=s.form_id,
            answer_refs=self.answer_refs,
            page_size=self.page_size,
            retry=self.retry_policy(),
        )


def resource(environment: SourceEnvironment) -> SurveyResource:
    return SurveyResource(environment=environment)


ASSETS = [stream_asset(s, RESOURCE_KEY) for s in survey.STREAMS]
CHECKS: list = []
