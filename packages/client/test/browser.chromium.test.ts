/** @tidings/client end to end in Debian's Chromium (playwright-core), against real Express and Fastify servers. */
import { chromiumDriver } from './browser/drivers';
import { browserSuite } from './browser/scenarios';

browserSuite(chromiumDriver);
