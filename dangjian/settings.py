"""Settings, read from environment variables with safe defaults.

``DANGJIAN_MODE`` chooses the posture: ``dev`` (default: SQLite under ``var/``, a generated
secret key kept in ``var/``) or ``production`` (every secret must be given, HTTPS-only cookies,
HSTS; a missing setting stops start-up with a clear message).
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DANGJIAN_VAR_DIR", BASE_DIR / "var"))

MODE = os.environ.get("DANGJIAN_MODE", "dev").strip().lower()
if MODE not in {"dev", "production"}:
    raise ImproperlyConfigured(f"DANGJIAN_MODE must be 'dev' or 'production', not {MODE!r}.")
PRODUCTION = MODE == "production"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"The environment variable {name} is required when DANGJIAN_MODE=production."
        )
    return value


def dev_key(name: str = "secret_key") -> str:
    """Generate a key once and keep it under var/, so dev data survives restarts."""
    path = VAR_DIR / name
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


if PRODUCTION:
    SECRET_KEY = required("SECRET_KEY")
    ALLOWED_HOSTS = [h.strip() for h in required("ALLOWED_HOSTS").split(",") if h.strip()]
    DATABASE_URL = required("DATABASE_URL")
    # Personal data at rest: the key of the encrypted columns (with SECRET_KEY, as
    # django-fernet-encrypted-fields derives it) and the key of the ID-number lookup hash.
    SALT_KEY = [k.strip() for k in required("FIELD_ENCRYPTION_KEY").split(",") if k.strip()]
    ID_HASH_KEY = required("ID_HASH_KEY")
else:
    SECRET_KEY = os.environ.get("SECRET_KEY") or dev_key()
    SALT_KEY = [
        k.strip()
        for k in (os.environ.get("FIELD_ENCRYPTION_KEY") or dev_key("field_encryption_key")).split(
            ","
        )
    ]
    ID_HASH_KEY = os.environ.get("ID_HASH_KEY") or dev_key("id_hash_key")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
    DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'dangjian.sqlite3'}"

DEBUG = env_bool("DEBUG", False)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "treebeard",
    "django_tasks",
    "django_tasks_db",
    "dangjian.core",
    "dangjian.rules",
    "dangjian.audit",
    "dangjian.accounts",
    "dangjian.organizations",
    "dangjian.members",
    "dangjian.orglife",
    "dangjian.reminders",
    "dangjian.dues",
    "dangjian.development",
    "dangjian.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Messages before the timeout, which tells the user why they were signed out.
    "django.contrib.messages.middleware.MessageMiddleware",
    "dangjian.accounts.middleware.SessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "dangjian.accounts.middleware.RequireSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dangjian.core.middleware.NoStoreMiddleware",
    "dangjian.audit.middleware.AuditContextMiddleware",
    # AxesMiddleware should be last: it turns lockouts into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dangjian.urls"
WSGI_APPLICATION = "dangjian.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "dangjian" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dangjian.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers proceed while one writer commits; IMMEDIATE avoids
        # "database is locked" upgrades in the middle of a write transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL compiles (JIT) any statement it estimates above 100,000, which every
    # statement over a city's members is; for the pages' sub-second statements compiling costs
    # more than it saves (home page of the city 815 -> 670 ms, docs/benchmarks.md). A URL
    # giving its own ?options= keeps them; behind a pooler that refuses the startup option
    # (PgBouncer), DATABASE_JIT_OFF=0 and ALTER ROLE ... SET jit = off instead.
    if env_bool("DATABASE_JIT_OFF", True):
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "dangjian.accounts.validators.CharacterClassValidator",
        "OPTIONS": {"min_classes": 3},
    },
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions: an idle timeout and an absolute cap (等级保护 2.0 三级: 登录超时退出).
SESSION_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "30")))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", "10")))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Second factor (TOTP). Roles listed here must use it; others may opt in. "none" for no role.
OTP_REQUIRED_ROLES = [
    role
    for role in env_list("OTP_REQUIRED_ROLES", ["committee_admin", "system_admin"])
    if role != "none"
]
API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))
OTP_TOTP_ISSUER = "党建 Dangjian"

# Lockout after repeated failures (django-axes).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
# Lock the account, not the address: a whole township office often shares one NAT address,
# and locking it would shut out every clerk there. Guessing one account's password is what the
# lockout must stop, and that it does whichever address the guesses come from.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# The interface is Chinese whatever the browser asks for: the source strings are Chinese and
# no other catalogue exists yet (so no LocaleMiddleware, which would mix in Django's English).
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "dangjian" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded meeting attachments: private, served only through views that check scope.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STATICFILES_DIRS = [BASE_DIR / "dangjian" / "static"]
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise expects it; in dev it serves from finders
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a refused token a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "dangjian.accounts.authentication.ExpiringSecondFactorTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dangjian API",
    "DESCRIPTION": "党建平台 REST API。所有数据按用户被授权的组织子树范围返回。",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the project's own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Choice sets whose field names (stage, outcome, role, kind) other apps use too. Once two
    # choice sets share a field name, each needs its name here (hence the meetings' KindEnum).
    "ENUM_NAME_OVERRIDES": {
        "KindEnum": "dangjian.orglife.choices.MeetingKind",
        "DevelopmentStageEnum": "dangjian.development.steps.Stage",
        "DevelopmentOutcomeEnum": "dangjian.development.models.Outcome",
        "DevelopmentRoleEnum": "dangjian.development.steps.Role",
        "DevelopmentAssessmentStageEnum": "dangjian.development.models.AssessmentStage",
        "DevelopmentDocumentKindEnum": "dangjian.development.models.DocumentKind",
    },
}

# Take the client's address from X-Real-IP only behind the reverse proxy that sets it.
TRUST_X_REAL_IP = env_bool("TRUST_X_REAL_IP", PRODUCTION)

# Audit log: rows younger than this cannot be deleted (the database refuses it).
AUDIT_RETENTION_DAYS = max(190, int(os.environ.get("AUDIT_RETENTION_DAYS", "190")))

# Long jobs (large imports, later reports) go to a task queue: django-tasks with its database
# backend and `manage.py db_worker` as the worker. Tests run tasks immediately in-process.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "dangjian@localhost")
# The address people open the product at: links in e-mailed reminders and sign-in QR codes.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SILENCED_SYSTEM_CHECKS = ["axes.W006"]  # see AXES_LOCKOUT_PARAMETERS
if PRODUCTION and not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
