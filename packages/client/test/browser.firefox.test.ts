/** @tidings/client end to end in Debian's Firefox ESR (puppeteer-core over WebDriver BiDi), against Express and Fastify. */
import { firefoxDriver } from './browser/drivers';
import { browserSuite } from './browser/scenarios';

browserSuite(firefoxDriver);
