// The public face of collector/capture: read export datagrams out of capture files, frame
// IPFIX over TCP, and replay datagrams to a collector.

export type { CaptureIssue, CaptureIssueKind, CaptureResult, CapturedDatagram } from './captured-datagram.js';
export {
  CaptureReader,
  DEFAULT_MAX_ISSUES,
  IPFIX_TCP_PORT,
  readCapture,
  type CaptureReaderOptions,
} from './read-capture.js';
export { readCaptureStream, type CaptureBatch } from './read-capture-stream.js';
export {
  IPFIX_HEADER_LENGTH,
  IPFIX_MAX_MESSAGE_LENGTH,
  IpfixTcpFramer,
  type FramerOutput,
} from './ipfix-tcp-framer.js';
export { sendDatagrams, type SendDatagramsOptions, type SendDatagramsResult } from './send-datagrams.js';
