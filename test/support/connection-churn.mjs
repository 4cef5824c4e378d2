// Opens and closes outgoing TCP connections to a listener of its own until told to stop; each one
// takes an ephemeral source port from the kernel, as a busy machine's other processes do.
import { connect, createServer } from 'node:net';

const server = createServer((socket) => socket.destroy());
let count = 0;
let stopped = false;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const churn = () => {
    if (stopped) return;
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      count += 1;
      socket.destroy();
    });
    socket.once('close', churn);
    socket.once('error', () => undefined);
  };
  for (let lane = 0; lane < 16; lane += 1) churn();
});

process.on('message', () => {
  stopped = true;
  server.close();
  process.send?.(count, () => process.exit(0));
});
