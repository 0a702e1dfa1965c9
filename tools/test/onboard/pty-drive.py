"""Drives a command through a pseudo-terminal, as a person at a terminal would: waits for each expected
prompt, types the answer, and prints what the terminal showed (the transcript), the exit status and, per
step, whether the terminal echoed input when the prompt showed, as JSON. Used by prompts.test.ts (node has
no pty of its own; Python's pty module is in the standard library).

    pty-drive.py '<json argv>' '<json [[expected text, typed text], ...]>' <cwd>
"""

import json
import os
import pty
import select
import sys
import termios
import time


def main() -> int:
    argv, steps, cwd = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and stderr are the terminal
        os.chdir(cwd)
        os.execvp(argv[0], argv)
    shown = bytearray()

    def read(timeout: float) -> bool:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            return False
        shown.extend(chunk)
        return bool(chunk)

    problem, mark, echo = None, 0, []
    for expected, typed in steps:
        deadline = time.time() + 120
        while expected.encode() not in shown[mark:]:  # the prompt, shown after the previous answer
            if time.time() > deadline or not read(0.5):
                problem = f"never prompted {expected!r}"
                break
        if problem:
            break
        mark = len(shown)
        echo.append(bool(termios.tcgetattr(fd)[3] & termios.ECHO))  # the terminal's echo as the prompt shows
        os.write(fd, typed.encode())
    deadline = time.time() + 300
    while time.time() < deadline and read(1.0):
        pass
    _, status = os.waitpid(pid, 0)
    text = shown.decode("utf-8", "replace")
    print(
        json.dumps({"transcript": text, "status": os.waitstatus_to_exitcode(status), "problem": problem, "echo": echo})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
