import { test } from 'uvu';
import * as assert from 'uvu/assert';
test('x', () => { assert.is(1, 1); });
test('y', () => { assert.is(1, 1); });
test.run();
