"""People who sign in to the operations console, and their browser sessions.

API keys are for programs; a console user is a person with a password
(argon2id hash only), a role and a lockout after repeated failures.
"""

from tortoise import fields
from tortoise.models import Model


class ConsoleUser(Model):
    """A person of one tenant who signs in to the console with an email and a password."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Tenant", related_name="console_users", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254, unique=True, description="Lower case, the sign-in name.")
    display_name = fields.CharField(max_length=100)
    role = fields.CharField(max_length=16, description="A domain.actor.Role value.")
    password_hash = fields.CharField(max_length=255, description="argon2id, never the password.")
    failed_attempts = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    disabled = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_sign_in_at = fields.DatetimeField(null=True)

    class Meta:
        table = "console_user"


class ConsoleSession(Model):
    """A signed-in browser: the cookie holds a random token, the table only its SHA-256."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[ConsoleUser] = fields.ForeignKeyField(
        "models.ConsoleUser", related_name="sessions", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    csrf_token = fields.CharField(max_length=64, description="Bound to this session, sent back with every form.")
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "console_session"
