/**
 * Child-process entry of the writer benchmark: runs one method (JSON request in argv[2]) and prints one
 * JSON line with its report (wall and CPU of the timed section), the CPU of the whole process and its
 * peak RSS. A process per method keeps each RSS honest. With `barrier: true` it prints `ready` after
 * setup and starts its timed section only when a line arrives on stdin, so several children can start
 * writing at once.
 */
import { createInterface } from 'node:readline';
import { type MethodRequest, runMethod } from './methods.js';

const request = JSON.parse(process.argv[2] ?? '{}') as MethodRequest;
const cpuBefore = process.cpuUsage();

async function barrier(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
  process.stdout.write('ready\n');
  await go;
  lines.close();
}

runMethod(request, request.barrier ? { ready: barrier } : {})
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
