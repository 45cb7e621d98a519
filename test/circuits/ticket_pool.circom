pragma circom 2.1.0;
include "../../circuits/lib/ticket_bundle.circom";
component main = TicketPool(2, 1065974270381495935781581442903412997780786809240);
