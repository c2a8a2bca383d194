"""The FastAPI application: the shared services on the app's state, the routers that use them, and the
middleware in front of them. Each surface is a module-level router; this module only assembles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..guard import Guard
from ..jurisdictions import apply_jurisdiction
from ..settings import Settings, get_settings
from ..store import Store
from . import (
    chat_api,
    consent_api,
    console,
    contest_page,
    conversation_api,
    metrics,
    metrics_api,
    moderation_api,
    operations,
    report_page,
    transparency,
)
from .auth import ApiKeyAuth
from .context import Services
from .documented_errors import ERROR_RESPONSES
from .gateway import Gateway
from .jobs import Jobs
from .limits import BodySizeLimit, RateLimit
from .responses import ERROR_HANDLERS
from .serving import install_accept_error_throttle

# in this order: it is the order of the OpenAPI paths and of route matching
ROUTERS = (operations.router, metrics_api.router, moderation_api.router, chat_api.router, conversation_api.router,
           consent_api.router, report_page.router, contest_page.router, transparency.router, console.router)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The jobs stop first: their last flush of counts needs the store pool, which closes last."""
    jobs: Jobs = app.state.jobs
    gateway: Gateway = app.state.gateway
    services: Services = app.state.services
    install_accept_error_throttle()  # "too many open files" once per 10 s, not 590 MB of log
    jobs.start()
    metrics.worker_started()
    yield
    await jobs.stop()
    await gateway.close()
    services.shutdown()
    metrics.worker_stopped()


def create_app(settings: Settings | None = None, guard: Guard | None = None, store: Store | None = None) -> FastAPI:
    configured = settings or get_settings()
    settings, jurisdiction = apply_jurisdiction(configured)  # the profile fills what the operator left unset
    guard = guard or Guard(settings)
    guard.warm_up()
    services = Services(settings, guard, store or Store(settings), jurisdiction=jurisdiction,
                        consent_overridden="require_consent" in configured.model_fields_set)
    app = FastAPI(title="childguard", version=__version__, lifespan=lifespan, exception_handlers=ERROR_HANDLERS,
                  description="A child protection mode for AI products (UN Joint Statement on AI and the Rights "
                              "of the Child, 2026).")
    app.state.services = services
    app.state.gateway = Gateway(services)
    app.state.jobs = Jobs(services)
    for router in ROUTERS:
        app.include_router(router, responses=ERROR_RESPONSES)  # the error answers, in the OpenAPI document
    app.mount("/static", StaticFiles(directory=str(resources.files("childguard.service").joinpath("static"))),
              name="static")
    app.add_middleware(ApiKeyAuth, keys=settings.api_keys)
    app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst,
                       exempt=("/healthz", "/readyz", "/metrics"), keys=settings.api_keys)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(metrics.HttpMetrics, routes=app.router.routes)
    return app
