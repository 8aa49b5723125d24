// Preloaded into a function's process (NODE_OPTIONS=--require) to run it "later": Date, and so Date.now, read
// CLOCK_AHEAD_MS ahead of the real time, so that a test sees a decision a day on without waiting a day.
const ahead = Number(process.env.CLOCK_AHEAD_MS);
if (!Number.isFinite(ahead))
  throw new Error(`CLOCK_AHEAD_MS must be a number of milliseconds, not ${process.env.CLOCK_AHEAD_MS}`);
const RealDate = Date;
class LaterDate extends RealDate {
  constructor(...args) {
    super(...(args.length === 0 ? [RealDate.now() + ahead] : args));
  }
  static now() {
    return RealDate.now() + ahead;
  }
}
globalThis.Date = LaterDate;
