/** Failure reasons the queue's lifecycle operations imply, shared by the API that requests them and the workers that record them. */

/** The failure reason (and failure object text) of a cancelled request. */
export const CANCELLED_REASON = 'Cancelled: the request was cancelled through the status API (DELETE) before it finished.';
