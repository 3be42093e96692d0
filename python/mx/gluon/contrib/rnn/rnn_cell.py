"""gluon.contrib.rnn's VariationalDropoutCell and LSTMPCell."""
from ...rnn.rnn_cell import ModifierCell, _GatedCell, _activate, _nm


class VariationalDropoutCell(ModifierCell):
    """Dropout with one mask per sequence (Gal and Ghahramani): the masks of the inputs, of the
    first state and of the outputs are drawn at the first step after ``reset`` (``unroll`` resets)
    and reused at every step. In predict mode nothing is dropped.

    Parameters
    ----------
    base_cell : RecurrentCell
        The wrapped cell.
    drop_inputs, drop_states, drop_outputs : float, default 0.
        Dropout probabilities.
    """

    def __init__(self, base_cell, drop_inputs=0., drop_states=0., drop_outputs=0.):
        super().__init__(base_cell)
        self.drop_inputs, self.drop_states, self.drop_outputs = drop_inputs, drop_states, drop_outputs
        self._masks = {}

    def _alias(self):
        return "vardrop"

    def reset(self):
        super().reset()
        self._masks = {}

    def _apply(self, F, what, p, x):
        if not p:
            return x
        if what not in self._masks:
            mask = F.Dropout(F.ones_like(x), p=p, **_nm(F, self, "%s_mask" % what))
            self._masks[what] = mask[0] if isinstance(mask, (list, tuple)) else mask
        return x * self._masks[what]

    def hybrid_forward(self, F, inputs, states):
        states = list(states)
        states[0] = self._apply(F, "states", self.drop_states, states[0])
        inputs = self._apply(F, "inputs", self.drop_inputs, inputs)
        output, next_states = self.base_cell(inputs, states)
        return self._apply(F, "outputs", self.drop_outputs, output), next_states

    def __repr__(self):
        return "%s(p_in=%s, p_state=%s, p_out=%s, %s)" % (self.__class__.__name__, self.drop_inputs,
                                                          self.drop_states, self.drop_outputs, self.base_cell)


class LSTMPCell(_GatedCell):
    """LSTM with a projected recurrent state (Sak et al. 2014): the LSTM step of LSTMCell, then
    r' = W_hr h' (no bias); the output and the recurrent state are r', the cell state is c'.
    States: [r of shape (batch, projection_size), c of shape (batch, hidden_size)].

    Parameters
    ----------
    hidden_size, projection_size : int
        Cell size and projected size.
    i2h_weight_initializer, h2h_weight_initializer, h2r_weight_initializer : Initializer, optional
        Weight initializers.
    i2h_bias_initializer, h2h_bias_initializer : str or Initializer, default 'zeros'
        Bias initializers.
    input_size : int, default 0
        Input feature size; 0 infers it at the first forward.
    prefix, params : optional
        As for every block.
    """

    _num_gates = 4
    _num_states = 2

    def __init__(self, hidden_size, projection_size, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, h2r_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", input_size=0, prefix=None, params=None):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, input_size, prefix, params)
        self._projection_size = int(projection_size)
        # the recurrent input is the projection, not h: h2h reads projection_size features
        self.h2h_weight._shape = (4 * self._hidden_size, self._projection_size)
        self.h2r_weight = self.params.get("h2r_weight", shape=(self._projection_size, self._hidden_size),
                                          init=h2r_weight_initializer, allow_deferred_init=True)

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size, self._projection_size), "__layout__": "NC"},
                {"shape": (batch_size, self._hidden_size), "__layout__": "NC"}]

    def _alias(self):
        return "lstmp"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, h2r_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._i2h_h2h(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        gates = F.SliceChannel(i2h + h2h, num_outputs=4, **_nm(F, self, "slice"))
        in_gate, forget_gate, out_gate = (F.sigmoid(gates[i]) for i in (0, 1, 3))
        next_c = forget_gate * states[1] + in_gate * _activate(F, gates[2], "tanh")
        hidden = out_gate * F.tanh(next_c)
        next_r = F.FullyConnected(hidden, h2r_weight, num_hidden=self._projection_size, no_bias=True,
                                  **_nm(F, self, "h2r"))
        return next_r, [next_r, next_c]
