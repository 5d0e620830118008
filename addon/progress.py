"""Operators whose work is a sequence of steps: run at once (scripts, tests) or one step per timer tick.

Interactively (``invoke``) each step runs on a timer tick, the status bar shows the progress and Esc cancels
before the last step; steps that change the scene come last, so a cancelled run leaves the scene untouched.
Any engine error becomes a report; an unexpected error is reported too and its traceback printed to the
console, never shown as a Python traceback in the user's face.
"""

import traceback

from engine.errors import ChoreolingoError


class SteppedOperator:
    """Mixin for ``bpy.types.Operator`` subclasses that implement ``steps(context)``.

    ``steps`` yields ``(fraction done, what comes next)`` between units of work.
    """

    def _fail(self, error: Exception) -> set:
        if isinstance(error, ChoreolingoError):
            self.report({"ERROR"}, str(error))
        else:
            traceback.print_exc()
            self.report({"ERROR"}, f"Choreolingo internal error: {type(error).__name__}: {error} (see console)")
        return {"CANCELLED"}

    def execute(self, context):
        try:
            for _ in self.steps(context):
                pass
        except Exception as error:  # noqa: BLE001 (the user gets a report, the console the traceback)
            return self._fail(error)
        return {"FINISHED"}

    def invoke(self, context, event):
        self._work = self.steps(context)
        manager = context.window_manager
        self._timer = manager.event_timer_add(0.01, window=context.window)
        manager.modal_handler_add(self)
        manager.progress_begin(0, 100)
        return {"RUNNING_MODAL"}

    def _finish(self, context) -> None:
        manager = context.window_manager
        manager.event_timer_remove(self._timer)
        manager.progress_end()
        context.workspace.status_text_set(None)

    def modal(self, context, event):
        if event.type == "ESC":
            self._finish(context)
            self._work.close()
            self.report({"WARNING"}, f"{self.bl_label} cancelled")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        try:
            fraction, label = next(self._work)
        except StopIteration:
            self._finish(context)
            return {"FINISHED"}
        except Exception as error:  # noqa: BLE001
            self._finish(context)
            return self._fail(error)
        context.window_manager.progress_update(int(100 * fraction))
        context.workspace.status_text_set(f"Choreolingo: {label} {100 * fraction:.0f}% (Esc to cancel)")
        return {"RUNNING_MODAL"}
