// Preloaded (`node --import`) into a controller process by a test: after CDM_TEST_THROW_AFTER_MS, throws
// from a timer as a bug would, with a secret in the message that must never reach the log.
const after = Number(process.env.CDM_TEST_THROW_AFTER_MS ?? '3000');
setTimeout(() => {
  throw new Error('injected bug while talking to postgres://app:hunter2@db.example/cdm');
}, after);
