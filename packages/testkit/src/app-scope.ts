/** The life of one scenario's app: clients opened against it, then everything closed in order. */
import type { ChannelRegistry } from '@tidings/core';
import { connect, type SseTestClient } from './sse-client';

/** A running app the scenarios talk to. */
export interface ScenarioApp {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** The framework's own shutdown; idempotent. */
  close(): Promise<void>;
}

/** What a scenario body gets: the registry, the app, and a way to open clients against it. */
export interface AppScope<A extends ScenarioApp> {
  registry: ChannelRegistry;
  app: A;
  /** A streaming client on `app.base + path`, resuming after `lastEventId` when given. */
  open(path: string, lastEventId?: string): SseTestClient;
}

/** Runs `body`; afterwards closes every client it opened, then the registry, then the app. */
export async function withinApp<A extends ScenarioApp>(
  registry: ChannelRegistry,
  app: A,
  body: (scope: AppScope<A>) => Promise<void>,
): Promise<void> {
  const closers: Array<() => void> = [];
  const open = (path: string, lastEventId?: string) => {
    const client = connect(`${app.base}${path}`, { lastEventId });
    closers.push(() => client.close());
    return client;
  };
  try {
    await body({ registry, app, open });
  } finally {
    for (const close of closers) close();
    await registry.close();
    await app.close();
  }
}
