/**
 * Keep-alive pings on shared timers: one unref'd interval per distinct period, however many streams use it,
 * so 5,000 idle clients cost one timer, not 5,000.
 */
import { unref } from './internal.js';

/** What a shared timer pings: a stream, through its `ping()` method, so no stream holds a closure. */
export interface KeepAliveMember {
  ping(): void;
}

const groups = new Map<number, { timer: ReturnType<typeof setInterval>; members: Set<KeepAliveMember> }>();

/** Pings `member` every `periodMs` until {@link stopKeepAlive}. */
export function startKeepAlive(member: KeepAliveMember, periodMs: number): void {
  let group = groups.get(periodMs);
  if (group === undefined) {
    const members = new Set<KeepAliveMember>();
    const timer = unref(
      setInterval(() => {
        for (const m of members) m.ping();
      }, periodMs),
    );
    group = { timer, members };
    groups.set(periodMs, group);
  }
  group.members.add(member);
}

/** Stops pinging `member`; the shared timer is cleared when its last member leaves. */
export function stopKeepAlive(member: KeepAliveMember, periodMs: number): void {
  const group = groups.get(periodMs);
  if (group === undefined) return;
  group.members.delete(member);
  if (group.members.size === 0) {
    clearInterval(group.timer);
    groups.delete(periodMs);
  }
}

/** How many shared keep-alive timers are running (for leak checks). */
export function keepAliveTimerCount(): number {
  return groups.size;
}
