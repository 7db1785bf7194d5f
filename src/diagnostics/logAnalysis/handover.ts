/**
 * A stream on another instance that ended at most this long after a new stream of
 * its session started is the handover itself, not a split brain: the new stream's
 * stream_start is logged before it asks Redis, and a predecessor that ended and let
 * go in that moment is not waited for (nor logged). Also covers clocks a little apart.
 */
export const HANDOVER_GRACE_MS = 500;
