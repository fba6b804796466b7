"""One-time codes sent by SMS to let a customer prove a phone number."""

from tortoise import fields
from tortoise.models import Model


class OtpChallenge(Model):
    """A code sent to one phone for one tenant, stored only as a keyed hash.

    It is spent by a correct answer, after max_attempts wrong ones, or at expires_at.
    """

    id = fields.IntField(primary_key=True)
    tenant = fields.ForeignKeyField("models.Tenant", related_name="otp_challenges", on_delete=fields.CASCADE)
    phone_hash = fields.CharField(max_length=64)
    code_hash = fields.CharField(max_length=64)
    attempts = fields.SmallIntField(default=0)
    max_attempts = fields.SmallIntField(default=5)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    consumed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "otp_challenge"
        indexes = (("tenant_id", "phone_hash"), ("expires_at",))
