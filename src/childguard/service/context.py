"""What the routes share: one object built at start-up and handed to each router, so every surface
(APIs, console, report page, jobs) works on the same guard, store and settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..conversation.guard import ConversationGuard, build_store
from ..errors import ConsentRequiredError
from ..guard import Guard
from ..reporting import ReportDesk
from ..settings import Settings
from ..store import Store
from ..store.accounts import Accounts
from ..store.consent import Consents
from ..store.journal import CountJournal
from ..store.stats import DecisionCounter


@dataclass
class Services:
    settings: Settings
    guard: Guard
    store: Store
    accounts: Accounts = field(init=False)
    consents: Consents = field(init=False)
    desk: ReportDesk = field(init=False)
    counter: DecisionCounter = field(init=False)
    conversations: ConversationGuard = field(init=False)

    def require_consent(self, profile: str | None, purpose: str) -> None:
        """With CHILDGUARD_REQUIRE_CONSENT, refuse a child profile that has no consent for `purpose`."""
        if self.settings.require_consent and (profile is None or not self.consents.allows(profile, purpose)):
            raise ConsentRequiredError(f"this service needs parental consent (scope '{purpose}') for the child "
                                       "profile: record it with POST /v1/consents for this profile ('user')")

    def __post_init__(self) -> None:
        s = self.settings
        self.accounts = Accounts(self.store, s.session_hours, s.login_max_failures, s.lockout_minutes,
                                s.login_backoff_s)
        self.consents = Consents(self.store)
        self.desk = ReportDesk(self.guard, self.store)
        # next to the key file (the service's data directory): counts survive a killed worker
        self.counter = DecisionCounter(CountJournal(s.key_file.parent / "counts"))
        self.conversations = ConversationGuard(self.guard, build_store(s), settings=s)
