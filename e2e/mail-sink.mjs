// A tiny SMTP server for the e2e run: accepts every message and serves what it got as JSON
// on a second port (GET /messages), so browser tests can follow the links Quiver e-mails.
// Usage: node mail-sink.mjs SMTP_PORT HTTP_PORT
import net from 'node:net';
import http from 'node:http';

const [smtpPort, httpPort] = process.argv.slice(2).map(Number);
const messages = [];

net.createServer((socket) => {
  let buffer = '';
  let inData = false;
  let rcpt = [];
  let data = [];
  const reply = (line) => socket.write(`${line}\r\n`);
  reply('220 e2e-sink ESMTP');
  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let i;
    while ((i = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (inData) {
        if (line === '.') {
          inData = false;
          messages.push({ to: rcpt, data: data.join('\n') });
          rcpt = [];
          data = [];
          reply('250 OK queued');
        } else {
          data.push(line.startsWith('.') ? line.slice(1) : line);
        }
        continue;
      }
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO') socket.write('250-e2e-sink\r\n250 8BITMIME\r\n');
      else if (verb === 'HELO' || verb === 'RSET' || verb === 'NOOP' || verb === 'MAIL') reply('250 OK');
      else if (verb === 'RCPT') {
        rcpt.push((line.match(/<([^>]*)>/) || [])[1] || '');
        reply('250 OK');
      } else if (verb === 'DATA') {
        inData = true;
        reply('354 end with .');
      } else if (verb === 'QUIT') {
        reply('221 bye');
        socket.end();
      } else reply('502 not implemented');
    }
  });
  socket.on('error', () => {});
}).listen(smtpPort, '127.0.0.1');

http.createServer((req, res) => {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(messages));
}).listen(httpPort, '127.0.0.1');
