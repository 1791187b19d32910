/**
 * The per-command output cap (ssh.maxOutputBytes) shared by the exec and shell drivers:
 * one error shape, so a client sees the same code and wording whichever mode the device uses.
 */
import { WarmpoolError } from '../core/errors.js';

/**
 * A command's text for a message: in double quotes as typed (commands never hold line breaks,
 * validation refuses them), cut so a long command cannot flood the line.
 */
export function quoteCommand(command: string): string {
  return `"${command.length > 120 ? `${command.slice(0, 117)}...` : command}"`;
}

/** OUTPUT_TOO_LARGE for a command whose output (or stderr) passed ssh.maxOutputBytes. */
export function outputTooLarge(device: string, command: string, limit: number, what = 'output'): WarmpoolError {
  return new WarmpoolError(
    'OUTPUT_TOO_LARGE',
    `device "${device}": ${what} of ${quoteCommand(command)} exceeded ssh.maxOutputBytes (${limit} bytes); use RunStream for larger outputs`,
    { device },
  );
}

/** OUTPUT_TOO_LARGE for one unterminated line longer than the cap (held whole until its line break, even when streaming). */
export function lineTooLong(device: string, command: string, limit: number): WarmpoolError {
  return new WarmpoolError(
    'OUTPUT_TOO_LARGE',
    `device "${device}": output of ${quoteCommand(command)} has a line longer than ssh.maxOutputBytes (${limit} bytes) without a line break`,
    { device },
  );
}
