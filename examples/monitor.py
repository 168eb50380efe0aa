#!/usr/bin/python3
"""Anomaly monitor: runs daedenoise on a file or the default audio source,
prints anomaly start/end with their times (from the bus messages) and a
summary of the GstDaeAnomalyMeta read from the output buffers.  With
--learn it first learns the machine's normal sound from the stream itself
(the element's online learning) and prints the progress.

Run with Debian's python3, which has PyGObject (python3-gi):

    /usr/bin/python3 examples/monitor.py --model machine.dae  # live source
    /usr/bin/python3 examples/monitor.py --file recording.wav --model machine.dae
    /usr/bin/python3 examples/monitor.py --learn 60 --save machine.dae
    /usr/bin/python3 examples/monitor.py \
        --source "audiotestsrc num-buffers=100 wave=pink-noise" --threshold 0

The embedded default models are speech denoisers without a calibrated
threshold: pass --model with a model trained by `dae-train anomaly`, --learn,
or an explicit --threshold.
Exit status: 0 at end of stream, 1 on a pipeline error, 2 on bad usage.
"""

import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def format_time(ns):
    if ns is None or ns == Gst.CLOCK_TIME_NONE:
        return "--:--:--.---"
    return "%u:%02u:%06.3f" % (ns // (3600 * Gst.SECOND),
                               ns // (60 * Gst.SECOND) % 60,
                               (ns % (60 * Gst.SECOND)) / Gst.SECOND)


class Monitor:
    def __init__(self, source, threshold, model, learn, learn_epochs, save):
        description = ("%s ! audioconvert ! audioresample ! "
                       "daedenoise name=dae anomaly-meta=true "
                       "anomaly-threshold=%s ! fakesink sync=false"
                       % (source, threshold))
        self.pipeline = Gst.parse_launch(description)
        dae = self.pipeline.get_by_name("dae")
        if model:
            dae.set_property("model-file", model)
        if learn > 0:
            # both can only be set before the pipeline starts
            dae.set_property("learn-duration", int(learn * Gst.SECOND))
            if learn_epochs:
                dae.set_property("learn-epochs", learn_epochs)
        if save:
            dae.set_property("learned-model-file", save)
        self.learn_epoch = 0
        dae.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER,
                                            self.on_buffer)
        self.buffers = 0
        self.anomalous_buffers = 0
        self.max_score = 0.0
        self.status = 0
        self.loop = GLib.MainLoop()
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    def on_buffer(self, pad, info):
        buf = info.get_buffer()
        meta = buf.get_custom_meta("GstDaeAnomalyMeta")
        if meta is not None:
            s = meta.get_structure()
            self.buffers += 1
            self.max_score = max(self.max_score, s.get_value("score"))
            if s.get_value("is-anomaly"):
                self.anomalous_buffers += 1
        return Gst.PadProbeReturn.OK

    def on_message(self, bus, message):
        t = message.type
        if t == Gst.MessageType.ELEMENT:
            s = message.get_structure()
            name = s.get_name()
            if name == "dae-anomaly-start":
                print("anomaly start at %s (score %.3f)"
                      % (format_time(s.get_value("stream-time")),
                         s.get_value("score")), flush=True)
            elif name == "dae-anomaly-end":
                print("anomaly end   at %s (score %.3f, lasted %s)"
                      % (format_time(s.get_value("stream-time")),
                         s.get_value("score"),
                         format_time(s.get_value("duration"))), flush=True)
            elif name == "dae-learning":
                self.on_learning(s)
            elif name == "dae-learning-done":
                saved = s.get_value("model-file")
                print("learning done: %.1f s of audio, %u epochs in %.1f s; "
                      "threshold %.4g%s"
                      % (s.get_value("seconds-of-audio"),
                         s.get_value("epochs"), s.get_value("train-time"),
                         s.get_value("threshold"),
                         "; saved to %s" % saved if saved else ""),
                      flush=True)
        elif t == Gst.MessageType.WARNING:
            err, debug = message.parse_warning()
            sys.stderr.write("monitor.py: warning: %s\n" % err.message)
        elif t == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            sys.stderr.write("monitor.py: %s\n%s\n" % (err.message, debug))
            self.status = 1
            self.loop.quit()
        elif t == Gst.MessageType.EOS:
            self.loop.quit()

    def on_learning(self, s):
        phase = s.get_value("phase")
        fraction = s.get_value("fraction")
        if phase == "collecting":
            print("learning: collected %.0f s (%3.0f %%)"
                  % (s.get_value("seconds"), 100 * fraction), flush=True)
            return
        # training: one line per finished epoch (the message whose fraction
        # reaches the epoch's end)
        epoch = s.get_value("epoch")
        epochs = s.get_value("epochs")
        if epoch > self.learn_epoch and fraction >= epoch / epochs - 1e-9:
            self.learn_epoch = epoch
            print("learning: epoch %u/%u, loss %.4f (%3.0f %%)"
                  % (epoch, epochs, s.get_value("loss"), 100 * fraction),
                  flush=True)

    def run(self):
        if self.pipeline.set_state(Gst.State.PLAYING) == \
                Gst.StateChangeReturn.FAILURE:
            # the error message on the bus says why
            self.status = 1
        else:
            self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        print("%d buffers with GstDaeAnomalyMeta, %d anomalous, "
              "max score %.3f" % (self.buffers, self.anomalous_buffers,
                                  self.max_score))
        return self.status


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--file", help="audio file to analyse")
    group.add_argument("--source", default="autoaudiosrc",
                       help="source pipeline fragment (default autoaudiosrc)")
    parser.add_argument("--threshold", default="-1",
                        help="anomaly-threshold (default -1 = the model's)")
    parser.add_argument("--model", help="a .dae model file")
    parser.add_argument("--learn", type=float, default=0, metavar="SECONDS",
                        help="learn the normal sound from the first SECONDS "
                        "of the stream, then score with the learned model")
    parser.add_argument("--learn-epochs", type=int, default=0, metavar="N",
                        help="training budget for --learn (default: the "
                        "element's, 20)")
    parser.add_argument("--save", metavar="FILE",
                        help="with --learn: save the learned model to FILE")
    args = parser.parse_args()
    if args.learn < 0 or args.learn > 600 or args.learn_epochs < 0:
        parser.error("--learn must be 0 to 600 s, --learn-epochs positive")
    if args.save and not args.learn:
        parser.error("--save needs --learn")

    Gst.init(None)
    if Gst.ElementFactory.find("daedenoise") is None:
        sys.stderr.write("monitor.py: the daedenoise element is not "
                         "installed (set GST_PLUGIN_PATH)\n")
        return 1
    if args.file:
        source = "filesrc location=\"%s\" ! decodebin" % args.file
    else:
        source = args.source
    try:
        monitor = Monitor(source, args.threshold, args.model, args.learn,
                          args.learn_epochs, args.save)
    except GLib.Error as e:
        sys.stderr.write("monitor.py: %s\n" % e.message)
        return 2
    return monitor.run()


if __name__ == "__main__":
    sys.exit(main())
