/**
 * @tidings/testkit: what Tidings' own tests share across packages. Private to this repository: never built,
 * never published. Tests import it as `@tidings/testkit` (jest and tsconfig map it to this source).
 */
export { type FrameCase, specCases } from './spec-cases';
