import { testbedConfig } from '@mp/testbed/vitest';

export default testbedConfig();
