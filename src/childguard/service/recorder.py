"""Recording escalations and children's reports so that none is ever lost (4i, 3d).

A case goes to the database when it answers within `store_timeout_s`; otherwise, or while the database
is known to be down, or while older cases still wait in the spool (so cases keep their order), it is
appended to the local encrypted spool, and the API says so (`"recorded": "spooled"`). The child's
answer (the safe decision, the helplines) never waits for more than that timeout. The spool job
(`replay`) writes spooled cases back in order once the database answers again; every case carries
an idempotency key, so a store call that timed out but committed later is not stored twice."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal, NamedTuple

from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreUnavailableError
from ..store import Store
from ..store.records import CaseRecord
from ..store.spool import Spool
from .offload import StorePool, Threads

log = logging.getLogger("childguard.recorder")
Recorded = Literal["stored", "spooled"]


class Recording(NamedTuple):
    recorded: Recorded
    case_id: int | None  # known once stored; a spooled case gets its id at replay


class CaseRecorder:
    def __init__(self, store: Store, spool: Spool, pool: StorePool) -> None:
        self.store, self.spool, self.pool = store, spool, pool
        self.database_up = True
        self._spool_thread = Threads(1, "cg-spool")

    async def record(self, case: CaseRecord) -> Recording:
        if self.database_up and not self.spool.pending():
            try:
                return Recording("stored", await self.pool.run(self.store.save_case, case))
            except StoreUnavailableError as exc:
                self.database_up = False
                log.warning("database unavailable, spooling cases until it answers again: %s", exc)
        await asyncio.get_running_loop().run_in_executor(self._spool_thread.pool, self.spool.append, case)
        return Recording("spooled", None)

    async def replay(self) -> int:
        """Write the spooled cases back when the database answers; returns how many were written."""
        pending = self.spool.pending()
        if self.database_up and not pending:
            return 0
        try:
            await self.pool.run(self.store.ping)
        except StoreUnavailableError:
            self.database_up = False
            return 0
        written = 0
        if pending:
            # the replay may take longer than one call's timeout; it is a background job and each record
            # is idempotent, so a replay interrupted by a new outage just runs again next time
            try:
                written = await asyncio.get_running_loop().run_in_executor(None, self.spool.replay,
                                                                           self.store.save_case)
            except SQLAlchemyError as exc:
                self.database_up = False
                log.warning("spool replay stopped, the database failed again (will retry): %s", exc)
                return 0
            if written:
                log.info("replayed %d spooled cases into the database", written)
        self.database_up = not self.spool.pending()
        return written

    def shutdown(self) -> None:
        self._spool_thread.shutdown(wait=True)
