"""What the sender reads when a channel did not keep their photo or voice note.

The channel drops the file (storage.attachment.files says why) and passes the reason in
``Incoming.refused``; the sender is told before anything else is answered, so that "请发送
照片" that may follow is not a riddle: the photo they sent did arrive, and was refused.
"""

from __future__ import annotations

from conversations.steps import Context
from storage.attachment.files import Refusal
from storage.i18n import N_

REFUSALS = {
    Refusal.TOO_LARGE.value: N_("照片太大（超过 {mb} MB），没有收下，请压缩后再发。"),
    Refusal.NOT_A_PHOTO.value: N_("这个文件不是照片，没有收下。请发 JPG 或 PNG 照片。"),
    Refusal.NOT_A_VOICE.value: N_("这个文件不是语音，没有收下。请按住说话录一段语音再发。"),
}
# A reason a newer channel gives that this list does not know yet: still say something.
UNKNOWN = N_("您发的附件没有收下，请换一个再发。")


def tell_refused(ctx: Context) -> None:
    """Say, in the person's language, why each dropped attachment was not kept."""
    for reason in ctx.incoming.refused:
        ctx.say(REFUSALS.get(reason, UNKNOWN), mb=ctx.settings.attachment_max_mb)
