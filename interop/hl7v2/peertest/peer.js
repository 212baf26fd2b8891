'use strict';
// Sends HL7 v2 message files to an MLLP listener with the TCP client of the
// simple-hl7 npm package, one file at a time on one connection. For each
// ACK it checks that MSA-1 is AA or CA and that MSA-2 equals the message's
// MSH-10. It prints one line per file, and exits with status 1 when an ACK
// does not match or a file cannot be sent.
//
// Usage: node peer.js HOST PORT FILE...

const fs = require('node:fs');
const path = require('node:path');
const hl7 = require('simple-hl7');

// ackTimeoutMs bounds the wait for each ACK.
const ackTimeoutMs = 10000;

const acceptCodes = new Set(['AA', 'CA']);

// normalise returns the message with a CR after every segment. Sample files
// are often saved with LF or CRLF line ends, but MLLP peers, and the
// simple-hl7 parser, separate segments with CR only.
function normalise(text) {
  const segments = text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\n|\r/)
    .filter((line) => line.trim() !== '');
  return segments.map((segment) => segment + '\r').join('');
}

// controlID returns MSH-10. The simple-hl7 header keeps fields from MSH-3
// on, so MSH-10 is header field 8.
function controlID(message) {
  const parsed = new hl7.Parser({ segmentSeperator: '\r' }).parse(message);
  return parsed.header.getField(8);
}

function send(client, message) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ACK within ${ackTimeoutMs} ms`)),
      ackTimeoutMs,
    );
    client.send(message, (err, ack) => {
      clearTimeout(timer);
      if (err) {
        reject(err);
      } else {
        resolve(ack);
      }
    });
  });
}

// checkAck returns an empty string when the ACK accepts the message with
// control id want, and the reason otherwise.
function checkAck(ack, want) {
  const msa = ack.getSegment('MSA');
  if (!msa) {
    return 'ACK has no MSA segment';
  }
  const code = msa.getField(1);
  const got = msa.getField(2);
  if (!acceptCodes.has(code)) {
    const errors = ack.getSegments('ERR').map((err) => err.toString(ack.header.delimiters));
    const detail = errors.length > 0 ? `; ${errors.join('; ')}` : '';
    return `MSA-1 is ${code}, expected AA or CA${detail}`;
  }
  if (got !== want) {
    return `MSA-2 is ${got}, expected ${want}`;
  }
  return '';
}

async function main(argv) {
  if (argv.length < 3) {
    console.error('usage: node peer.js HOST PORT FILE...');
    return 2;
  }
  const [host, portText, ...files] = argv;
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(`invalid port ${portText}: expected a number from 1 to 65535`);
    return 2;
  }

  const client = hl7.Server.createTcpClient({ host, port, keepalive: true });
  let failed = 0;
  try {
    for (const file of files) {
      const name = path.basename(file);
      const message = normalise(fs.readFileSync(file, 'utf8'));
      const mshCount = message.split('\r').filter((s) => s.startsWith('MSH|')).length;
      if (mshCount !== 1) {
        console.log(`${name}: contains ${mshCount} MSH segments, expected exactly 1`);
        failed++;
        continue;
      }
      const want = controlID(message);
      const ack = await send(client, message);
      const reason = checkAck(ack, want);
      if (reason === '') {
        console.log(`${name}: control id ${want}: ${ack.getSegment('MSA').getField(1)}`);
      } else {
        console.log(`${name}: control id ${want}: ${reason}`);
        failed++;
      }
    }
  } catch (err) {
    console.log(`send to ${host}:${port} failed: ${err.message}`);
    return 1;
  } finally {
    client.close();
  }
  console.log(`${files.length} messages sent, ${files.length - failed} accepted, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
