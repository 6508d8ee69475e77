#pragma once
// Ctrl-C in `kiln chat`: during a reply it stops the reply (generation ends before the next
// token: GenerateOptions::cancel), and the chat returns to the prompt; at the prompt it quits
// (status 0), as does a second Ctrl-C while a stopped reply has not yet ended (status 130).
//
// The SIGINT handler only sets atomics, and to quit restores the terminal's modes saved at
// start (line editing changes them while a line is read) and calls _exit: each is safe in a
// signal handler, and quitting at the prompt needs no cooperation from the line reader.
#include <atomic>

namespace kiln {

class ChatInterrupt {
public:
    ChatInterrupt();   // installs the handler; saves the terminal's modes when stdin is one
    ~ChatInterrupt();  // puts the previous handler back
    ChatInterrupt(const ChatInterrupt&) = delete;
    ChatInterrupt& operator=(const ChatInterrupt&) = delete;

    // While a Reply lives, Ctrl-C sets the flag it gives instead of quitting.
    class Reply {
    public:
        Reply();
        ~Reply();
        Reply(const Reply&) = delete;
        Reply& operator=(const Reply&) = delete;
        const std::atomic<bool>& cancel() const;  // for GenerateOptions::cancel
        bool stopped() const { return cancel().load(); }
    };
};

}  // namespace kiln
