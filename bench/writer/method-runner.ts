/**
 * Child-process entry of the writer benchmark: runs one method (JSON request in argv[2]) and prints one
 * JSON line with its report, its CPU time and its peak RSS. A process per method keeps each RSS honest.
 */
import { type MethodRequest, runMethod } from './methods.js';

const request = JSON.parse(process.argv[2] ?? '{}') as MethodRequest;
const cpuBefore = process.cpuUsage();
runMethod(request)
  .then((report) => {
    const cpu = process.cpuUsage(cpuBefore);
    const peakRssMb = Math.round((process.resourceUsage().maxRSS * 1024) / 2 ** 20);
    process.stdout.write(
      `${JSON.stringify({ ...report, nodeCpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb })}\n`,
    );
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
