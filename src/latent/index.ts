export { SeededRandom } from './random.js';
