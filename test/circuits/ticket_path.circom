pragma circom 2.1.0;
include "../../circuits/lib/ticket.circom";
component main = TicketPath(2);
