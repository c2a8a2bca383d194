"""What the routes share: one object built at start-up and kept on the app, so every surface (APIs,
console, report page, jobs) works on the same guard, store and settings. Routes get it through the
`get_services` dependency rather than a closure, so the routers can be plain module-level objects."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from ..agebands import AgeBand
from ..contesting import ContestDesk
from ..conversation.monitor import ConversationGuard, build_store
from ..conversation.stateless import StatelessStore
from ..decision import Decision
from ..errors import ConsentRequiredError
from ..guard import Guard
from ..inputs import parse_age
from ..jurisdictions import Jurisdiction, for_country
from ..reporting import ReportDesk
from ..settings import Settings
from ..store import Store
from ..store.accounts import Accounts
from ..store.consent import Consents
from ..store.contests import Contests
from ..store.journal import CountJournal
from ..store.spool import Spool
from ..store.stats import DecisionCounter
from .health import Health
from .metrics import MeteredCounter
from .offload import DecisionPool, StorePool
from .readiness import Readiness
from .recorder import CaseRecorder
from .report_flood import ReportAdmission


@dataclass
class Services:
    settings: Settings
    guard: Guard
    store: Store
    accounts: Accounts = field(init=False)
    consents: Consents = field(init=False)
    desk: ReportDesk = field(init=False)
    contest_desk: ContestDesk = field(init=False)
    counter: DecisionCounter = field(init=False)
    conversations: ConversationGuard = field(init=False)
    contests: Contests = field(init=False)
    jurisdiction: Jurisdiction | None = None  # the deployment's profile (CHILDGUARD_JURISDICTION), if any
    consent_overridden: bool = False  # the operator set CHILDGUARD_REQUIRE_CONSENT: it wins over every profile
    decisions: DecisionPool = field(init=False)
    store_pool: StorePool = field(init=False)
    conversation_io: StorePool = field(init=False)  # conversation state and age-assurance calls, beside the database's
    recorder: CaseRecorder = field(init=False)
    health: Health = field(init=False)
    started: float = field(init=False, default_factory=time.time)  # for the uptime /healthz reports

    def consent_needed(self, country: str | None = None, age: object = None) -> bool:
        """Whether this request needs recorded consent: the operator's explicit setting, else the profile
        of the request's country (or the deployment's), with its consent age."""
        if self.jurisdiction is None or self.consent_overridden:
            return self.settings.require_consent
        band: AgeBand | None
        try:
            band = parse_age(age, AgeBand.ADULT) if age is not None else None
        except ValueError:
            band = None  # the request's own validation reports a bad age; unknown counts as under age
        return for_country(country, self.jurisdiction).consent_needed(band, country)

    def require_consent(self, profile: str | None, purpose: str, country: str | None = None,
                        age: object = None) -> None:
        """When consent is needed (CHILDGUARD_REQUIRE_CONSENT, or the jurisdiction profile and the child's
        age), refuse a child profile that has no consent for `purpose`."""
        if self.consent_needed(country, age) and (profile is None or not self.consents.allows(profile, purpose)):
            raise ConsentRequiredError(f"this service needs parental consent (scope '{purpose}') for the child "
                                       "profile: record it with POST /v1/consents for this profile ('user')")

    def issue_contest(self, decision: Decision, text: str, source: str, profile: str | None) -> str | None:
        """A contest token for a blocked or redirected child (3i), or none when the store cannot write
        one now: a token is a courtesy and must never cost the child the decision and its helplines."""
        try:
            return self.contests.issue(decision, text, source, profile)
        except Exception:  # the database is down or slow: the decision stands without a token
            return None

    def __post_init__(self) -> None:
        s = self.settings
        self.accounts = Accounts(self.store, s.session_hours, s.login_max_failures, s.lockout_minutes,
                                s.login_backoff_s)
        self.consents = Consents(self.store)
        self.desk = ReportDesk(self.guard, self.store)
        self.report_admission = ReportAdmission(s.report_burst, s.report_per_hour)
        # next to the key file (the service's data directory): counts survive a killed worker
        self.counter = MeteredCounter(CountJournal(s.key_file.parent / "counts"))
        self.conversations = ConversationGuard(self.guard, build_store(s), settings=s)
        # for profiles whose consent was withdrawn: judged, nothing about the conversation kept
        self.stateless_conversations = ConversationGuard(self.guard, StatelessStore(), settings=s)
        self.contests = Contests(self.store, s.contest_window_days)
        self.contest_desk = ContestDesk(self.contests)
        self.decisions = DecisionPool(s.cpu_threads, s.cpu_queue)
        self.store_pool = StorePool(s.store_threads, s.store_timeout_s)
        self.conversation_io = StorePool(s.store_threads, s.store_timeout_s, name="cg-conv-io")
        self.recorder = CaseRecorder(self.store, Spool(s.spool_file, self.store.box), self.store_pool)
        self.health = Health(s, self.store)
        self.readiness = Readiness(self)

    def shutdown(self) -> None:
        self.recorder.shutdown()
        for pool in (self.decisions, self.store_pool, self.conversation_io, self.health):
            pool.shutdown()


async def get_services(request: Request) -> Services:
    """A coroutine, so it runs on the event loop: /healthz must answer while the thread pools are full."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
